# The preview's database, by var.database_mode:
#
# - dedicated: an RDS PostgreSQL instance of its own. RDS manages the master password in Secrets
#   Manager (and rotates it without a custom Lambda).
# - shared: a database and a role of its own on the base's shared Aurora PostgreSQL cluster
#   (terraform/base, shared_database = true). prenv makes them before the plan, through the RDS Data
#   API, with sql/ (the same SQL pr-database.sh runs for the local stack), and puts the role's password
#   in the secret prenv/<hash6>/pr<N>/database; this root only reads where they are. Nothing here
#   creates a database server.
# - none: no database; the task gets no database settings.
#
# Either way the task receives the password by `valueFrom`, so no password appears in Terraform's
# configuration, plan or state: the state holds the secret's ARN only.

locals {
  dedicated = var.database_mode == "dedicated"
  shared    = var.database_mode == "shared"

  # PR N's database and role on the shared server (prenv/core/naming.py: pr_database, database_secret).
  shared_database = "prenv_pr${var.pr_number}"
  shared_secret   = "prenv/${local.hash6}/pr${var.pr_number}/database"

  database = {
    dedicated = {
      host       = one(aws_db_instance.this[*].address)
      port       = one(aws_db_instance.this[*].port)
      name       = "app"
      user       = "app" # the RDS master user the app logs in as (its password: the RDS-managed secret)
      secret_arn = one([for db in aws_db_instance.this : db.master_user_secret[0].secret_arn])
      identifier = one(aws_db_instance.this[*].identifier)
    }
    shared = {
      host       = one(data.aws_rds_cluster.shared[*].endpoint)
      port       = one(data.aws_rds_cluster.shared[*].port)
      name       = local.shared_database
      user       = local.shared_database
      secret_arn = one(data.aws_secretsmanager_secret.shared[*].arn)
      identifier = one(data.aws_rds_cluster.shared[*].cluster_identifier)
    }
  }
  db = lookup(local.database, var.database_mode, null)
}

resource "aws_db_instance" "this" {
  #checkov:skip=CKV_AWS_157:Ephemeral preview: a single-AZ test database; Multi-AZ doubles its cost for no reviewer benefit.
  #checkov:skip=CKV_AWS_118:Ephemeral preview: enhanced monitoring needs a monitoring role and costs per instance; CloudWatch metrics suffice.
  #checkov:skip=CKV_AWS_353:Ephemeral preview: Performance Insights is not needed on a throwaway test database.
  #checkov:skip=CKV2_AWS_30:Ephemeral preview: no query logging (a parameter group per PR); the PostgreSQL error log is exported.
  #checkov:skip=CKV_AWS_293:Ephemeral preview: the database is destroyed with the PR, so deletion protection would only block prenv destroy.
  #checkov:skip=CKV_AWS_133:Ephemeral preview: no backups; the database is destroyed with the PR (skip_final_snapshot).
  count          = local.dedicated ? 1 : 0
  identifier     = local.names.rds_identifier
  engine         = "postgres"
  engine_version = "16" # PostgreSQL major, equal to docker-compose.yml's (a test compares them)

  instance_class         = var.db_instance_class
  allocated_storage      = var.db_allocated_storage
  storage_type           = "gp3"
  storage_encrypted      = true
  db_name                = "app"
  username               = "app"
  port                   = 5432
  db_subnet_group_name   = data.aws_db_subnet_group.base[0].name
  vpc_security_group_ids = [aws_security_group.db[0].id]

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

# RDS writes its PostgreSQL log here; created first so it is managed (retention, tags) and destroyed.
resource "aws_cloudwatch_log_group" "db" {
  #checkov:skip=CKV_AWS_338:Ephemeral preview: logs live as long as the preview (log_retention_days), not a year.
  #checkov:skip=CKV_AWS_158:Ephemeral preview: encrypted at rest by CloudWatch's own key; a KMS key per PR costs more than the preview.
  count             = local.dedicated ? 1 : 0
  name              = "/aws/rds/instance/${local.names.rds_identifier}/postgresql"
  retention_in_days = var.log_retention_days
}

# --- shared: found by name, like the rest of the base ----------------------------------------------

data "aws_rds_cluster" "shared" {
  count              = local.shared ? 1 : 0
  cluster_identifier = "${local.base_name}-shared"
}

# Made by prenv before the plan; read here for its ARN only (this data source never reads the value).
data "aws_secretsmanager_secret" "shared" {
  count = local.shared ? 1 : 0
  name  = local.shared_secret
}

# The base's shared cluster accepts PostgreSQL from this group only; the service joins it.
data "aws_security_group" "db_clients" {
  count  = local.shared ? 1 : 0
  name   = "${local.base_name}-db-clients"
  vpc_id = data.aws_vpc.base.id
}
