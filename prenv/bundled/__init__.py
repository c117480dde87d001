"""The Terraform shipped inside prenv. `prenv.bundled.preview` is terraform/preview of the sources,
mapped into the package when it is built (pyproject.toml's package-dir): one copy, never two."""
