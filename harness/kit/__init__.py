"""The lab's shared kit: what ``compare``, ``faults``, ``pitfalls`` and ``bench`` all stand on.

Those packages stand side by side and never import each other's modules; what two of them need lives here, one
floor down, and this package imports none of them. It holds the servers the lab starts and their profiles
(:mod:`lab`), the workload's events (:mod:`workload`), what a request and a run recorded (:mod:`records`) and how an
invocation's answer becomes one (:mod:`outcomes`), the connection monitor (:mod:`monitor`), the machine a figure was
measured on (:mod:`machine`), the Lambda context an in-process handler is given (:mod:`lambda_context`), the one
percentile rule (:mod:`percentiles`) and process memory (:mod:`memory`).
"""
