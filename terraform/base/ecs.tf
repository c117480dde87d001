# The ECS cluster the previews' services run in, the image repository, and the permissions boundary
# every preview role carries.

resource "aws_ecs_cluster" "this" {
  name = local.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_ecs_cluster_capacity_providers" "this" {
  cluster_name       = aws_ecs_cluster.this.name
  capacity_providers = ["FARGATE", "FARGATE_SPOT"]

  default_capacity_provider_strategy {
    capacity_provider = "FARGATE_SPOT"
    weight            = 1
  }
}

resource "aws_ecr_repository" "app" {
  name                 = local.name
  image_tag_mutability = var.ecr_image_tag_mutability
  force_delete         = false

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
  }
}

resource "aws_ecr_lifecycle_policy" "app" {
  repository = aws_ecr_repository.app.name
  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "Drop untagged layers after a day"
        selection    = { tagStatus = "untagged", countType = "sinceImagePushed", countUnit = "days", countNumber = 1 }
        action       = { type = "expire" }
      },
      {
        rulePriority = 2
        description  = "Keep the 200 most recent preview images"
        selection    = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = 200 }
        action       = { type = "expire" }
      },
    ]
  })
}

# The most any preview role may do, whatever its own policies say. The bootstrap role may create
# roles only with this boundary, so a preview workflow cannot mint a role more powerful than this.
data "aws_iam_policy_document" "preview_boundary" {
  statement {
    sid     = "EcrLogin"
    actions = ["ecr:GetAuthorizationToken"]
    # No resource type: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html
    resources = ["*"]
  }
  statement {
    sid       = "PullImages"
    actions   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    resources = ["arn:${data.aws_partition.current.partition}:ecr:*:${data.aws_caller_identity.current.account_id}:repository/*"]
  }
  statement {
    sid       = "PreviewLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["arn:${data.aws_partition.current.partition}:logs:*:${data.aws_caller_identity.current.account_id}:log-group:/prenv/${local.hash6}/*"]
  }
  # The RDS-managed master secret of the role's own preview database only: RDS tags the secret it
  # manages with aws:rds:primaryDBInstanceArn (the key AmazonRDSServiceRolePolicy tags with:
  # https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonRDSServiceRolePolicy.html),
  # and every preview role carries its PR's prenv:pr tag, which the bootstrap role cannot change. So
  # whatever inline policy a pull request gives its roles, they read no other database's password.
  statement {
    sid       = "OwnPreviewDatabaseSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = ["arn:${data.aws_partition.current.partition}:secretsmanager:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:secret:rds!db-*"]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/aws:rds:primaryDBInstanceArn"
      values   = ["arn:${data.aws_partition.current.partition}:rds:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:db:${local.name}-pr$${aws:PrincipalTag/prenv:pr}-db"]
    }
  }
  # database.mode shared: the secret prenv writes for the role's own PR, by name (prenv/<hash6>/pr<N>/
  # database, plus the 6 characters Secrets Manager appends), with the PR from the role's prenv:pr tag.
  statement {
    sid       = "OwnSharedDatabaseSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = ["arn:${data.aws_partition.current.partition}:secretsmanager:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:secret:prenv/${local.hash6}/pr$${aws:PrincipalTag/prenv:pr}/database-??????"]
  }
  statement {
    sid = "EcsExec"
    actions = [
      "ssmmessages:CreateControlChannel",
      "ssmmessages:CreateDataChannel",
      "ssmmessages:OpenControlChannel",
      "ssmmessages:OpenDataChannel",
    ]
    # No resource type: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsessionmanagermessagegatewayservice.html
    resources = ["*"]
  }
}

resource "aws_iam_policy" "preview_boundary" {
  name        = "${local.name}-preview-boundary"
  description = "Permissions boundary of every prenv preview role of ${local.repository}"
  policy      = data.aws_iam_policy_document.preview_boundary.json
}
