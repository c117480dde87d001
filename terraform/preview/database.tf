# RDS PostgreSQL, private to the preview. RDS manages the master password in Secrets Manager (and
# rotates it without a custom Lambda); the task receives it by `valueFrom`, so no password appears in
# Terraform's configuration, plan or state.

resource "aws_db_instance" "this" {
  #checkov:skip=CKV_AWS_157:Ephemeral preview: a single-AZ test database; Multi-AZ doubles its cost for no reviewer benefit.
  #checkov:skip=CKV_AWS_118:Ephemeral preview: enhanced monitoring needs a monitoring role and costs per instance; CloudWatch metrics suffice.
  #checkov:skip=CKV_AWS_353:Ephemeral preview: Performance Insights is not needed on a throwaway test database.
  #checkov:skip=CKV2_AWS_30:Ephemeral preview: no query logging (a parameter group per PR); the PostgreSQL error log is exported.
  #checkov:skip=CKV_AWS_293:Ephemeral preview: the database is destroyed with the PR, so deletion protection would only block prenv destroy.
  #checkov:skip=CKV_AWS_133:Ephemeral preview: no backups; the database is destroyed with the PR (skip_final_snapshot).
  identifier     = local.names.rds_identifier
  engine         = "postgres"
  engine_version = "16" # PostgreSQL major, equal to docker-compose.yml's (a test compares them)

  instance_class         = var.db_instance_class
  allocated_storage      = var.db_allocated_storage
  storage_type           = "gp3"
  storage_encrypted      = true
  db_name                = local.db_name
  username               = local.db_user
  port                   = 5432
  db_subnet_group_name   = data.aws_db_subnet_group.base.name
  vpc_security_group_ids = [aws_security_group.db.id]

  manage_master_user_password = true

  publicly_accessible                 = false
  iam_database_authentication_enabled = true
  auto_minor_version_upgrade          = true
  copy_tags_to_snapshot               = true
  enabled_cloudwatch_logs_exports     = ["postgresql"]

  # Throwaway by design: destroyed with the PR, nothing kept.
  backup_retention_period = 0
  skip_final_snapshot     = true
  deletion_protection     = false
  apply_immediately       = true

  depends_on = [aws_cloudwatch_log_group.db]
}
