"""The AWS adapter: every boto3 client prenv makes, the calls it sends through them (botocore errors
classified there), the state bucket and the orphaned-resource search."""
