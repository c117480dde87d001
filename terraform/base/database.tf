# database.mode shared: one Aurora PostgreSQL Serverless v2 cluster for every preview of the repository,
# when shared_database is true. Each preview gets a database and a role of its own on it, which prenv
# makes and drops through the RDS Data API (no network path from the runner, no task in the VPC), so a
# preview's time to URL no longer contains an RDS create. Minimum capacity 0 ACU: the instance pauses
# after shared_database_auto_pause_seconds without connections and costs nothing for compute while
# paused; the first connection (or Data API call) resumes it in about 15 seconds. docs/setup.md
# ("Databases") has the cost and the trade-off against an RDS instance.
#
# Reached only from the previews' tasks (the db-clients group, which terraform/preview gives the
# service), in the private subnets of two or more zones (the DB subnet group); storage encrypted; the
# master password managed by RDS in Secrets Manager, which the Data API signs in with.

locals {
  shared_database = var.shared_database ? 1 : 0
}

resource "aws_security_group" "db_clients" {
  #checkov:skip=CKV2_AWS_5:The previews' ECS services join this group (terraform/preview with database_mode shared); nothing in the base itself uses it.
  count       = local.shared_database
  name        = "${local.name}-db-clients"
  description = "prenv previews of ${local.repository}: may reach the shared database server"
  vpc_id      = aws_vpc.this.id
}

resource "aws_security_group" "db" {
  count       = local.shared_database
  name        = "${local.name}-db"
  description = "prenv shared database server of ${local.repository}: PostgreSQL from the previews only"
  vpc_id      = aws_vpc.this.id
}

resource "aws_vpc_security_group_ingress_rule" "db_from_clients" {
  count                        = local.shared_database
  security_group_id            = aws_security_group.db[0].id
  description                  = "PostgreSQL from the previews' tasks"
  referenced_security_group_id = aws_security_group.db_clients[0].id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}

resource "aws_vpc_security_group_egress_rule" "clients_to_db" {
  count                        = local.shared_database
  security_group_id            = aws_security_group.db_clients[0].id
  description                  = "PostgreSQL of the shared database server"
  referenced_security_group_id = aws_security_group.db[0].id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}

resource "aws_rds_cluster" "shared" {
  #checkov:skip=CKV_AWS_327:Encrypted with the account's AWS-managed RDS key; a customer-managed key costs $1/month and adds key policy to maintain for preview data.
  #checkov:skip=CKV2_AWS_8:Preview databases are rebuilt from migrations and seed data; no AWS Backup plan (the cluster keeps its 1-day automated backup).
  #checkov:skip=CKV2_AWS_27:No query logging parameter group for preview data; the PostgreSQL log is exported to CloudWatch.
  count              = local.shared_database
  cluster_identifier = "${local.name}-shared"
  engine             = "aurora-postgresql"
  engine_mode        = "provisioned"
  # PostgreSQL 16 like the dedicated instances and docker-compose.yml; 16.3 or later scales to 0 ACU,
  # and 16.1 or later serves the Data API.
  engine_version = var.shared_database_engine_version

  master_username             = "prenv_admin"
  manage_master_user_password = true
  enable_http_endpoint        = true # the RDS Data API: how prenv provisions the previews' databases

  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = [aws_security_group.db[0].id]
  storage_encrypted      = true
  port                   = 5432

  iam_database_authentication_enabled = true
  enabled_cloudwatch_logs_exports     = ["postgresql"]
  copy_tags_to_snapshot               = true
  backup_retention_period             = 1
  deletion_protection                 = var.shared_database_deletion_protection
  skip_final_snapshot                 = true # preview data only: rebuilt by migrations and seed
  apply_immediately                   = true

  serverlessv2_scaling_configuration {
    min_capacity             = 0
    max_capacity             = var.shared_database_max_capacity
    seconds_until_auto_pause = var.shared_database_auto_pause_seconds
  }
}

resource "aws_rds_cluster_instance" "shared" {
  #checkov:skip=CKV_AWS_118:Enhanced monitoring needs a monitoring role and bills per instance; CloudWatch metrics suffice for previews.
  #checkov:skip=CKV_AWS_353:Performance Insights is not needed for preview databases.
  count                        = local.shared_database
  identifier                   = "${local.name}-shared-1"
  cluster_identifier           = aws_rds_cluster.shared[0].id
  instance_class               = "db.serverless"
  engine                       = aws_rds_cluster.shared[0].engine
  engine_version               = aws_rds_cluster.shared[0].engine_version
  db_subnet_group_name         = aws_db_subnet_group.this.name
  publicly_accessible          = false
  auto_minor_version_upgrade   = true
  copy_tags_to_snapshot        = true
  performance_insights_enabled = false
  apply_immediately            = true
}
