"""The preview's lifecycle on Terraform: the runner (the only place that runs terraform), the order of
its calls, and the health check after a deploy."""
