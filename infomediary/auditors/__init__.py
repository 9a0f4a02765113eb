"""Auditors: the parties that verify the policy log and record sanctions."""
