"""Istio behaviour as pure functions over plain values (resource specs as parsed, namespaces, hosts).

Each module follows one part of Istio's own code and names the source it follows; paths are
istio/istio (https://github.com/istio/istio) unless another repository is named. Nothing here
reads files, knows about findings or severities: the rules decide what to report.
"""
