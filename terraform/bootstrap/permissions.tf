# What the preview role may do: exactly what terraform/preview manages, plus the reads prenv's
# commands need. Write access is scoped to prenv's names for this repository (prenv-<hash6>-pr*,
# /prenv/<hash6>/...) or to resources tagged prenv:repository = <repository>. No wildcard actions;
# "*" resources only for actions AWS does not scope to a resource (Describe*, GetAuthorizationToken,
# task definitions), each commented.

locals {
  arn = {
    # From the name, not the resource, so the policies are known at plan time (tests read the plan).
    bucket        = "arn:${local.partition}:s3:::${local.bucket}"
    state_objects = "arn:${local.partition}:s3:::${local.bucket}/${var.workspace_key_prefix}/*"
    ecr           = "arn:${local.partition}:ecr:${local.region}:${local.account_id}:repository/${local.name}"
    vpc           = "arn:${local.partition}:ec2:${local.region}:${local.account_id}:vpc/*"
    sg            = "arn:${local.partition}:ec2:${local.region}:${local.account_id}:security-group/*"
    sg_rule       = "arn:${local.partition}:ec2:${local.region}:${local.account_id}:security-group-rule/*"
    elb           = "arn:${local.partition}:elasticloadbalancing:${local.region}:${local.account_id}"
    ecs           = "arn:${local.partition}:ecs:${local.region}:${local.account_id}"
    role          = "arn:${local.partition}:iam::${local.account_id}:role/${local.name}-pr*"
    boundary      = "arn:${local.partition}:iam::${local.account_id}:policy/${local.name}-preview-boundary"
    logs          = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group"
    rds           = "arn:${local.partition}:rds:${local.region}:${local.account_id}"
    secrets       = "arn:${local.partition}:secretsmanager:${local.region}:${local.account_id}:secret:rds!db-*"
  }
  repository_tag = { test = "StringEquals", variable = "aws:ResourceTag/prenv:repository", values = [local.repository] }
  request_tag    = { test = "StringEquals", variable = "aws:RequestTag/prenv:repository", values = [local.repository] }
}

# --- State and images ------------------------------------------------------------------------------

data "aws_iam_policy_document" "state_and_images" {
  statement {
    sid       = "ListStateBucket"
    actions   = ["s3:ListBucket", "s3:GetBucketVersioning"]
    resources = [local.arn.bucket]
  }
  statement {
    sid       = "ReadWriteWorkspaceStateAndLocks"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [local.arn.state_objects]
  }
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"] # no resource-level permissions
  }
  statement {
    sid = "PushAndPullTheAppImage"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:CompleteLayerUpload",
      "ecr:DescribeImages",
      "ecr:GetDownloadUrlForLayer",
      "ecr:InitiateLayerUpload",
      "ecr:PutImage",
      "ecr:UploadLayerPart",
    ]
    resources = [local.arn.ecr]
  }
  statement {
    sid       = "FindOrphansByTag"
    actions   = ["tag:GetResources"]
    resources = ["*"] # no resource-level permissions
  }
}

# --- Network and load balancer ---------------------------------------------------------------------

data "aws_iam_policy_document" "network" {
  statement {
    sid = "Describe"
    actions = [
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
    resources = ["*"] # Describe* calls have no resource-level permissions
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
  statement {
    sid = "PreviewListenersAndRulesOnTheSharedAlb"
    actions = [
      "elasticloadbalancing:AddTags",
      "elasticloadbalancing:CreateListener",
      "elasticloadbalancing:CreateRule",
      "elasticloadbalancing:DeleteListener",
      "elasticloadbalancing:DeleteRule",
      "elasticloadbalancing:ModifyListener",
      "elasticloadbalancing:ModifyListenerAttributes",
      "elasticloadbalancing:ModifyRule",
      "elasticloadbalancing:RemoveTags",
      "elasticloadbalancing:SetRulePriorities",
    ]
    resources = [
      "${local.arn.elb}:loadbalancer/app/${local.name}/*",
      "${local.arn.elb}:listener/app/${local.name}/*",
      "${local.arn.elb}:listener-rule/app/${local.name}/*",
    ]
  }
}

# --- ECS, IAM roles of the tasks, logs -------------------------------------------------------------

data "aws_iam_policy_document" "compute" {
  statement {
    sid = "TaskDefinitions"
    actions = [
      "ecs:DeregisterTaskDefinition",
      "ecs:DescribeTaskDefinition",
      "ecs:RegisterTaskDefinition",
    ]
    resources = ["*"] # task definition calls have no resource-level permissions
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
  statement {
    sid       = "CreatePreviewRolesOnlyWithTheBoundary"
    actions   = ["iam:CreateRole", "iam:PutRolePolicy"]
    resources = [local.arn.role]
    condition {
      test     = "StringEquals"
      variable = "iam:PermissionsBoundary"
      values   = [local.arn.boundary]
    }
  }
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
      "iam:TagRole",
      "iam:UntagRole",
      "iam:UpdateAssumeRolePolicy",
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
    sid       = "DescribeLogGroups"
    actions   = ["logs:DescribeLogGroups"]
    resources = ["${local.arn.logs}:*"]
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
      "logs:ListTagsLogGroup",
      "logs:PutRetentionPolicy",
      "logs:TagLogGroup",
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
  statement {
    sid       = "DescribeDatabases"
    actions   = ["rds:DescribeDBInstances", "rds:DescribeDBSubnetGroups"]
    resources = ["${local.arn.rds}:db:*", "${local.arn.rds}:subgrp:${local.name}"]
  }
  statement {
    sid = "RdsManagedMasterSecrets"
    actions = [
      "secretsmanager:CreateSecret",
      "secretsmanager:DeleteSecret",
      "secretsmanager:DescribeSecret",
      "secretsmanager:RotateSecret",
      "secretsmanager:TagResource",
      "secretsmanager:UpdateSecret",
    ]
    resources = [local.arn.secrets]
  }
  statement {
    sid       = "SecretsManagerKeyViaSecretsManager"
    actions   = ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"]
    resources = ["arn:${local.partition}:kms:${local.region}:${local.account_id}:key/*"]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${local.region}.amazonaws.com"]
    }
  }
}

locals {
  policies = {
    state-and-images = data.aws_iam_policy_document.state_and_images.json
    network          = data.aws_iam_policy_document.network.json
    compute          = data.aws_iam_policy_document.compute.json
    database         = data.aws_iam_policy_document.database.json
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
