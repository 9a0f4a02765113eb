"""Operator pages: the supplier console at `/supplier` and the auditor view at `/audit`.

Operators are people (accounts made by `infomediary suppliers|auditors add-operator`), not OAuth clients;
each page calls the same service functions as the JSON API, scoped to the operator's own supplier or auditor.
"""
