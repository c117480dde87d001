# What the preview role may do: exactly what terraform/preview manages, plus the reads prenv's
# commands need. Write access is scoped to prenv's names for this repository (prenv-<hash6>-pr*,
# /prenv/<hash6>/pr*) and, where the base shares a resource with the previews (its VPC, load balancer,
# listeners), to what carries a preview's tags (prenv:pr). No wildcard actions; Resource "*" only where
# the Service Authorization Reference lists no resource type for the action (each statement cites it).
# tests/iam evaluates every AWS call the tests make against these policies with an IAM policy simulator,
# and checks that removing any statement breaks a named call (docs/setup.md has the generated table).

locals {
  arn = {
    # From the name, not the resource, so the policies are known at plan time (tests read the plan).
    bucket        = "arn:${local.partition}:s3:::${local.bucket}"
    state_objects = "arn:${local.partition}:s3:::${local.bucket}/${var.workspace_key_prefix}/*"
    default_state = "arn:${local.partition}:s3:::${local.bucket}/${var.state_key}"
    ecr           = "arn:${local.partition}:ecr:${local.region}:${local.account_id}:repository/${local.name}"
    vpc           = "arn:${local.partition}:ec2:${local.region}:${local.account_id}:vpc/*"
    sg            = "arn:${local.partition}:ec2:${local.region}:${local.account_id}:security-group/*"
    sg_rule       = "arn:${local.partition}:ec2:${local.region}:${local.account_id}:security-group-rule/*"
    elb           = "arn:${local.partition}:elasticloadbalancing:${local.region}:${local.account_id}"
    ecs           = "arn:${local.partition}:ecs:${local.region}:${local.account_id}"
    role          = "arn:${local.partition}:iam::${local.account_id}:role/${local.name}-pr*"
    role_prefix   = "arn:${local.partition}:iam::${local.account_id}:role/${local.name}-pr"
    boundary      = "arn:${local.partition}:iam::${local.account_id}:policy/${local.name}-preview-boundary"
    logs          = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group"
    rds           = "arn:${local.partition}:rds:${local.region}:${local.account_id}"
    # RDS names the master user secrets it manages rds!db-<uuid>; only RDS can create such a name.
    secrets = "arn:${local.partition}:secretsmanager:${local.region}:${local.account_id}:secret:rds!db-*"
    # database.mode shared: the base's cluster, its RDS-managed master secret (rds!cluster-<uuid>), and
    # the secrets prenv writes for the pull requests' roles (prenv/<hash6>/pr<N>/database).
    shared_cluster = "arn:${local.partition}:rds:${local.region}:${local.account_id}:cluster:${local.name}-shared"
    cluster_secret = "arn:${local.partition}:secretsmanager:${local.region}:${local.account_id}:secret:rds!cluster-*"
    pr_secrets     = "arn:${local.partition}:secretsmanager:${local.region}:${local.account_id}:secret:prenv/${local.hash6}/pr*"
  }
  repository_tag = { test = "StringEquals", variable = "aws:ResourceTag/prenv:repository", values = [local.repository] }
  request_tag    = { test = "StringEquals", variable = "aws:RequestTag/prenv:repository", values = [local.repository] }
  # Service Authorization Reference pages cited where an action has no resource type (Resource "*").
  sar = "https://docs.aws.amazon.com/service-authorization/latest/reference"
}

# --- State and images ------------------------------------------------------------------------------

data "aws_iam_policy_document" "state_and_images" {
  # prenv doctor also reads the bucket's default encryption (versioning and existence with the others).
  statement {
    sid       = "ListStateBucket"
    actions   = ["s3:GetBucketVersioning", "s3:GetEncryptionConfiguration", "s3:ListBucket"]
    resources = [local.arn.bucket]
  }
  statement {
    sid       = "ReadWriteWorkspaceStateAndLocks"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [local.arn.state_objects]
  }
  # prenv runs `terraform init` as the default workspace, and the S3 backend then reads the default
  # workspace's key <bucket>/<key> (outside the prefix): a HeadObject that real S3 answers 403 without
  # s3:GetObject, which Terraform reports as "Unable to access object". Read only, that one key.
  statement {
    sid       = "ReadTheDefaultWorkspaceKey"
    actions   = ["s3:GetObject"]
    resources = [local.arn.default_state]
  }
  statement {
    sid     = "EcrLogin"
    actions = ["ecr:GetAuthorizationToken"]
    # No resource type: ${local.sar}/list_amazonelasticcontainerregistry.html
    resources = ["*"]
  }
  statement {
    sid = "PushAndPullTheAppImage"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:CompleteLayerUpload",
      "ecr:DescribeImages",
      "ecr:DescribeRepositories", # prenv doctor: the base's repository exists
      "ecr:GetDownloadUrlForLayer",
      "ecr:InitiateLayerUpload",
      "ecr:PutImage",
      "ecr:UploadLayerPart",
    ]
    resources = [local.arn.ecr]
  }
  statement {
    sid     = "FindOrphansByTag"
    actions = ["tag:GetResources"]
    # No resource type: ${local.sar}/list_awsresourcegroupstaggingapi.html
    resources = ["*"]
  }
}

# --- Network and load balancer ---------------------------------------------------------------------

data "aws_iam_policy_document" "network" {
  statement {
    sid = "Describe"
    actions = [
      "ec2:DescribeNatGateways", # the base's running cost, for each preview's share of it
      "ec2:DescribeNetworkInterfaces",
      "ec2:DescribeRouteTables",
      "ec2:DescribeSecurityGroupRules",
      "ec2:DescribeSecurityGroups",
      "ec2:DescribeSubnets",
      "ec2:DescribeVpcs",
      "elasticloadbalancing:DescribeListenerAttributes",
      "elasticloadbalancing:DescribeListeners",
      "elasticloadbalancing:DescribeLoadBalancerAttributes",
      "elasticloadbalancing:DescribeLoadBalancers",
      "elasticloadbalancing:DescribeRules",
      "elasticloadbalancing:DescribeTags",
      "elasticloadbalancing:DescribeTargetGroupAttributes",
      "elasticloadbalancing:DescribeTargetGroups",
      "elasticloadbalancing:DescribeTargetHealth",
    ]
    # No resource type for these: ${local.sar}/list_amazonec2.html and
    # ${local.sar}/list_awselasticloadbalancingv2.html
    resources = ["*"]
  }
  statement {
    sid       = "DescribeVpcAttributes"
    actions   = ["ec2:DescribeVpcAttribute"]
    resources = [local.arn.vpc]
  }
  statement {
    sid       = "CreateSecurityGroupsInTheBaseVpc"
    actions   = ["ec2:CreateSecurityGroup"]
    resources = [local.arn.vpc]
    condition {
      test     = local.repository_tag.test
      variable = "ec2:ResourceTag/prenv:repository"
      values   = local.repository_tag.values
    }
  }
  statement {
    sid       = "CreateTaggedSecurityGroups"
    actions   = ["ec2:CreateSecurityGroup"]
    resources = [local.arn.sg]
    condition {
      test     = local.request_tag.test
      variable = local.request_tag.variable
      values   = local.request_tag.values
    }
    condition {
      test     = "Null"
      variable = "aws:RequestTag/prenv:pr"
      values   = ["false"]
    }
  }
  statement {
    sid       = "TagOnCreate"
    actions   = ["ec2:CreateTags"]
    resources = [local.arn.sg, local.arn.sg_rule]
    condition {
      test     = "StringEquals"
      variable = "ec2:CreateAction"
      values   = ["CreateSecurityGroup", "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress"]
    }
  }
  statement {
    sid = "ManageOwnSecurityGroups"
    actions = [
      "ec2:AuthorizeSecurityGroupEgress",
      "ec2:AuthorizeSecurityGroupIngress",
      "ec2:CreateTags",
      "ec2:DeleteSecurityGroup",
      "ec2:DeleteTags",
      "ec2:ModifySecurityGroupRules",
      "ec2:RevokeSecurityGroupEgress",
      "ec2:RevokeSecurityGroupIngress",
      "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
      "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
    ]
    resources = [local.arn.sg]
    condition {
      test     = local.repository_tag.test
      variable = local.repository_tag.variable
      values   = local.repository_tag.values
    }
    # A preview's groups only: the base's (its ALB's) carry no prenv:pr tag.
    condition {
      test     = "Null"
      variable = "aws:ResourceTag/prenv:pr"
      values   = ["false"]
    }
  }
  statement {
    sid = "RulesOfOwnSecurityGroups"
    actions = [
      "ec2:AuthorizeSecurityGroupEgress",
      "ec2:AuthorizeSecurityGroupIngress",
      "ec2:ModifySecurityGroupRules",
      "ec2:RevokeSecurityGroupEgress",
      "ec2:RevokeSecurityGroupIngress",
    ]
    resources = [local.arn.sg_rule] # the group itself must pass ManageOwnSecurityGroups
  }
  statement {
    sid = "PreviewTargetGroups"
    actions = [
      "elasticloadbalancing:AddTags",
      "elasticloadbalancing:CreateTargetGroup",
      "elasticloadbalancing:DeleteTargetGroup",
      "elasticloadbalancing:ModifyTargetGroup",
      "elasticloadbalancing:ModifyTargetGroupAttributes",
      "elasticloadbalancing:RemoveTags",
    ]
    resources = ["${local.arn.elb}:targetgroup/${local.name}-pr*/*"]
  }
  # Previews attach to the base's load balancer: a listener each (port 10000 + N) or, with a domain, a
  # host rule on the base's listener. What they create must carry prenv:pr; what they change or delete
  # must already carry it. The base's listeners carry no prenv:pr tag: they stay untouchable.
  statement {
    sid       = "CreatePreviewListeners"
    actions   = ["elasticloadbalancing:CreateListener"]
    resources = ["${local.arn.elb}:loadbalancer/app/${local.name}/*"]
    condition {
      test     = "Null"
      variable = "aws:RequestTag/prenv:pr"
      values   = ["false"]
    }
  }
  statement {
    sid       = "CreatePreviewRulesOnTheSharedListeners"
    actions   = ["elasticloadbalancing:CreateRule"]
    resources = ["${local.arn.elb}:listener/app/${local.name}/*"]
    condition {
      test     = "Null"
      variable = "aws:RequestTag/prenv:pr"
      values   = ["false"]
    }
  }
  statement {
    sid = "ManagePreviewListenersAndRules"
    actions = [
      "elasticloadbalancing:DeleteListener",
      "elasticloadbalancing:DeleteRule",
      "elasticloadbalancing:ModifyListener",
      "elasticloadbalancing:ModifyListenerAttributes",
      "elasticloadbalancing:ModifyRule",
      "elasticloadbalancing:SetRulePriorities",
    ]
    resources = [
      "${local.arn.elb}:listener/app/${local.name}/*",
      "${local.arn.elb}:listener-rule/app/${local.name}/*",
    ]
    condition {
      test     = "Null"
      variable = "aws:ResourceTag/prenv:pr"
      values   = ["false"]
    }
  }
  statement {
    sid       = "TagPreviewListenersAndRulesOnCreate"
    actions   = ["elasticloadbalancing:AddTags"]
    resources = ["${local.arn.elb}:listener/app/${local.name}/*", "${local.arn.elb}:listener-rule/app/${local.name}/*"]
    condition {
      test     = "StringEquals"
      variable = "elasticloadbalancing:CreateAction"
      values   = ["CreateListener", "CreateRule"]
    }
  }
  statement {
    sid       = "RetagPreviewListenersAndRules"
    actions   = ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"]
    resources = ["${local.arn.elb}:listener/app/${local.name}/*", "${local.arn.elb}:listener-rule/app/${local.name}/*"]
    condition {
      test     = "Null"
      variable = "aws:ResourceTag/prenv:pr"
      values   = ["false"]
    }
    condition {
      test     = "ForAllValues:StringNotEquals"
      variable = "aws:TagKeys"
      values   = ["prenv:pr"]
    }
  }
}

# --- ECS, IAM roles of the tasks, logs -------------------------------------------------------------

data "aws_iam_policy_document" "compute" {
  statement {
    sid       = "RegisterPreviewTaskDefinitions"
    actions   = ["ecs:RegisterTaskDefinition"]
    resources = ["${local.arn.ecs}:task-definition/${local.name}-pr*:*"]
  }
  statement {
    sid     = "ReadAndDeregisterTaskDefinitions"
    actions = ["ecs:DeregisterTaskDefinition", "ecs:DescribeTaskDefinition"]
    # No resource type for these two: ${local.sar}/list_amazonelasticcontainerservice.html
    resources = ["*"]
  }
  statement {
    sid       = "TagTaskDefinitionsOnCreate"
    actions   = ["ecs:TagResource"]
    resources = ["${local.arn.ecs}:task-definition/${local.name}-pr*:*"]
    condition {
      test     = "StringEquals"
      variable = "ecs:CreateAction"
      values   = ["RegisterTaskDefinition"]
    }
  }
  statement {
    sid = "PreviewServices"
    actions = [
      "ecs:CreateService",
      "ecs:DeleteService",
      "ecs:DescribeServices",
      "ecs:ListTagsForResource",
      "ecs:TagResource",
      "ecs:UntagResource",
      "ecs:UpdateService",
    ]
    resources = ["${local.arn.ecs}:service/${local.name}/${local.name}-pr*"]
  }
  statement {
    sid       = "TheSharedCluster"
    actions   = ["ecs:DescribeClusters"]
    resources = ["${local.arn.ecs}:cluster/${local.name}"]
  }
  statement {
    sid       = "TasksOfTheSharedCluster"
    actions   = ["ecs:DescribeTasks", "ecs:ListTasks"]
    resources = ["${local.arn.ecs}:task/${local.name}/*", "${local.arn.ecs}:container-instance/${local.name}/*"]
  }
  # One-off tasks of a preview (prenv run, the pre_destroy hook): its own task definition, in the shared
  # cluster only; the roles it names are passed under PassPreviewRolesToEcsTasksOnly.
  statement {
    sid       = "OneOffTasksOfPreviews"
    actions   = ["ecs:RunTask"]
    resources = ["${local.arn.ecs}:task-definition/${local.name}-pr*:*"]
    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = ["${local.arn.ecs}:cluster/${local.name}"]
    }
  }
  # A one-off task that outlives its timeout is stopped (tasks carry no tags to scope by).
  statement {
    sid       = "StopTasksOfTheSharedCluster"
    actions   = ["ecs:StopTask"]
    resources = ["${local.arn.ecs}:task/${local.name}/*"]
  }
  # A preview role reads its own database's secret only: the boundary matches the secret's database to
  # the role's prenv:pr tag. So a role's name and its prenv:pr tag must agree when it is created, and the
  # tag can never change afterwards.
  statement {
    sid       = "CreatePreviewRolesOnlyWithTheBoundary"
    actions   = ["iam:CreateRole"]
    resources = ["${local.arn.role_prefix}$${aws:RequestTag/prenv:pr}-*"]
    condition {
      test     = "StringEquals"
      variable = "iam:PermissionsBoundary"
      values   = [local.arn.boundary]
    }
  }
  statement {
    sid       = "TagPreviewRolesWithTheirOwnPr"
    actions   = ["iam:TagRole"]
    resources = ["${local.arn.role_prefix}$${aws:RequestTag/prenv:pr}-*"]
  }
  statement {
    sid       = "RetagPreviewRolesButNotTheirPr"
    actions   = ["iam:TagRole", "iam:UntagRole"]
    resources = [local.arn.role]
    condition {
      test     = "ForAllValues:StringNotEquals"
      variable = "aws:TagKeys"
      values   = ["prenv:pr"]
    }
  }
  statement {
    sid       = "InlinePoliciesOnlyOnRolesWithTheBoundary"
    actions   = ["iam:PutRolePolicy"]
    resources = [local.arn.role]
    condition {
      test     = "StringEquals"
      variable = "iam:PermissionsBoundary"
      values   = [local.arn.boundary]
    }
  }
  # No iam:UpdateAssumeRolePolicy: a preview role's trust is set when it is created.
  statement {
    sid = "ManagePreviewRoles"
    actions = [
      "iam:DeleteRole",
      "iam:DeleteRolePolicy",
      "iam:GetRole",
      "iam:GetRolePolicy",
      "iam:ListAttachedRolePolicies",
      "iam:ListInstanceProfilesForRole",
      "iam:ListRolePolicies",
      "iam:UpdateRole",
      "iam:UpdateRoleDescription",
    ]
    resources = [local.arn.role]
  }
  statement {
    sid       = "PassPreviewRolesToEcsTasksOnly"
    actions   = ["iam:PassRole"]
    resources = [local.arn.role]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }
  statement {
    sid       = "RdsServiceLinkedRole"
    actions   = ["iam:CreateServiceLinkedRole"]
    resources = ["arn:${local.partition}:iam::${local.account_id}:role/aws-service-role/rds.amazonaws.com/AWSServiceRoleForRDS"]
    condition {
      test     = "StringEquals"
      variable = "iam:AWSServiceName"
      values   = ["rds.amazonaws.com"]
    }
  }
  statement {
    sid     = "DescribeLogGroups"
    actions = ["logs:DescribeLogGroups"]
    # No resource type: ${local.sar}/list_amazoncloudwatchlogs.html
    resources = ["*"]
  }
  statement {
    sid = "PreviewLogGroups"
    actions = [
      "logs:CreateLogGroup",
      "logs:DeleteLogGroup",
      "logs:DeleteRetentionPolicy",
      "logs:FilterLogEvents",
      "logs:GetLogEvents",
      "logs:ListTagsForResource",
      "logs:PutRetentionPolicy",
      "logs:TagResource",
      "logs:UntagResource",
    ]
    resources = [
      "${local.arn.logs}:/prenv/${local.hash6}/pr*",
      "${local.arn.logs}:/aws/rds/instance/${local.name}-pr*",
    ]
  }
}

# --- Database and its managed secret ---------------------------------------------------------------

data "aws_iam_policy_document" "database" {
  statement {
    sid       = "CreateTaggedPreviewDatabases"
    actions   = ["rds:CreateDBInstance"]
    resources = ["${local.arn.rds}:db:${local.name}-pr*"]
    condition {
      test     = local.request_tag.test
      variable = local.request_tag.variable
      values   = local.request_tag.values
    }
  }
  statement {
    sid     = "WhatANewDatabaseUses"
    actions = ["rds:CreateDBInstance"]
    resources = [
      "${local.arn.rds}:subgrp:${local.name}",
      "${local.arn.rds}:pg:default.*",
      "${local.arn.rds}:og:default:*",
    ]
  }
  statement {
    sid = "ManagePreviewDatabases"
    actions = [
      "rds:AddTagsToResource",
      "rds:DeleteDBInstance",
      "rds:ListTagsForResource",
      "rds:ModifyDBInstance",
      "rds:RemoveTagsFromResource",
    ]
    resources = ["${local.arn.rds}:db:${local.name}-pr*"]
  }
  # cleanup.sleep_after: an idle preview's own database is stopped, and started again when it wakes.
  # Only a preview's database, by name; StopDBInstance without DBSnapshotIdentifier takes no snapshot,
  # so it needs neither rds:CreateDBSnapshot nor rds:AddTagsToResource on one.
  statement {
    sid       = "StopAndStartPreviewDatabases"
    actions   = ["rds:StartDBInstance", "rds:StopDBInstance"]
    resources = ["${local.arn.rds}:db:${local.name}-pr*"]
  }
  statement {
    sid       = "DescribeDatabases"
    actions   = ["rds:DescribeDBInstances", "rds:DescribeDBSubnetGroups"]
    resources = ["${local.arn.rds}:db:*", "${local.arn.rds}:subgrp:${local.name}"]
  }
  # manage_master_user_password: RDS creates and tags the database's master user secret with the
  # caller's credentials, and needs kms:DescribeKey for its key ("Permissions required for Secrets
  # Manager integration": https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html).
  # RDS itself (its service-linked role) rotates and deletes the secret: the workflows need neither, nor
  # to read it. So: create and tag only through an AWS service (aws:ViaAWSService), only secrets named
  # as RDS names them, and only for prenv's databases when the request names the database in the tag RDS
  # gives the secret, aws:rds:primaryDBInstanceArn (AmazonRDSServiceRolePolicy tags with that key:
  # https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonRDSServiceRolePolicy.html).
  statement {
    sid       = "RdsCreatesTheMasterSecretOfAPreviewDatabase"
    actions   = ["secretsmanager:CreateSecret", "secretsmanager:TagResource"]
    resources = [local.arn.secrets]
    condition {
      test     = "Bool"
      variable = "aws:ViaAWSService"
      values   = ["true"]
    }
    condition {
      test     = "StringLikeIfExists"
      variable = "aws:RequestTag/aws:rds:primaryDBInstanceArn"
      values   = ["${local.arn.rds}:db:${local.name}-pr*"]
    }
  }
  statement {
    sid       = "RdsDescribesTheSecretKey"
    actions   = ["kms:DescribeKey"]
    resources = ["arn:${local.partition}:kms:${local.region}:${local.account_id}:key/*"]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["rds.${local.region}.amazonaws.com", "secretsmanager.${local.region}.amazonaws.com"]
    }
  }
}

# --- database.mode shared: the pull requests' databases on the base's shared server ----------------
#
# prenv makes each PR's database and role through the RDS Data API (ExecuteStatement on the cluster,
# signed in with the cluster's master user secret), and writes the role's password to a secret of the
# PR's own. The runner reads no secret itself; the Data API reads the master secret with the caller's
# credentials ("Data API transparently calls Secrets Manager, which allows (or denies) the user's
# request for the secret": https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.access.html),
# so GetSecretValue is allowed on that one secret, the one RDS tagged with the cluster's ARN.

data "aws_iam_policy_document" "shared_database" {
  statement {
    sid       = "FindTheSharedDatabaseServer"
    actions   = ["rds:DescribeDBClusters"]
    resources = [local.arn.shared_cluster]
  }
  statement {
    sid       = "RunSqlOnTheSharedDatabaseServer"
    actions   = ["rds-data:ExecuteStatement"]
    resources = [local.arn.shared_cluster]
  }
  statement {
    sid       = "TheDataApiSignsInWithTheSharedServersMasterSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [local.arn.cluster_secret]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/aws:rds:primaryDBClusterArn"
      values   = [local.arn.shared_cluster]
    }
  }
  # Created only with this repository's tag (cleanup finds a secret left behind by it).
  statement {
    sid       = "CreatePullRequestDatabaseSecrets"
    actions   = ["secretsmanager:CreateSecret", "secretsmanager:TagResource"]
    resources = [local.arn.pr_secrets]
    condition {
      test     = local.request_tag.test
      variable = local.request_tag.variable
      values   = local.request_tag.values
    }
  }
  # By name only: DescribeSecret of a secret that does not exist yet must answer "not found", which a
  # condition on the resource's tags would turn into "access denied". The names are this repository's.
  statement {
    sid = "ManagePullRequestDatabaseSecrets"
    actions = [
      "secretsmanager:DeleteSecret",
      "secretsmanager:DescribeSecret",
      "secretsmanager:GetResourcePolicy",
      "secretsmanager:PutSecretValue",
    ]
    resources = [local.arn.pr_secrets]
  }
}

locals {
  policies = {
    state-and-images = data.aws_iam_policy_document.state_and_images.json
    network          = data.aws_iam_policy_document.network.json
    compute          = data.aws_iam_policy_document.compute.json
    database         = data.aws_iam_policy_document.database.json
    shared-database  = data.aws_iam_policy_document.shared_database.json
  }
}

resource "aws_iam_policy" "preview" {
  for_each    = local.policies
  name        = "${local.name}-preview-${each.key}"
  description = "prenv previews of ${local.repository}: ${each.key}"
  policy      = each.value
}

resource "aws_iam_role_policy_attachment" "preview" {
  for_each   = aws_iam_policy.preview
  role       = aws_iam_role.preview.name
  policy_arn = each.value.arn
}
