"""Data portability: everything the service holds about one customer, across every domain, as one documented,
versioned JSON document (`export`) and the JSON Schema that describes it (`published`)."""
