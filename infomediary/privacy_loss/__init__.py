"""Individual privacy accounting: each customer's own privacy loss from the DP releases that included her,
and the filter that drops her out of further releases once her cap is reached (Feldman and Zrnic, 2021)."""
