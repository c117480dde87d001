"""Helpers of the tests of the shipped Terraform roots (tests/terraform)."""
