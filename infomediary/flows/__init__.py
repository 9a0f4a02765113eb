"""The application layer: what follows from what, across domains, one module per thing that happened.

A domain package changes its own records and says what changed; the consequences in other domains (the
audience index after a profile change, retired counts and dropped events after a withdrawal, everything
after an erasure) are plain functions here, called alike by the API, the pages and the command line. They
take the caller's session and run in its transaction: nothing here commits.
"""
