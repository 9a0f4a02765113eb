"""Pseudonymous slices for suppliers (`slices:read`)."""
