# The application: a Fargate task definition and an ECS service behind the preview's target group.

# --- The placeholder: what a preview runs until it is given an image -------------------------------
# prenv/core/contract.py's PLACEHOLDER_IMAGE, run so that it keeps the app contract: busybox's httpd
# listens on $PORT as whatever user the task sets, serves only files it writes below /tmp (the writable
# volume of the read-only root), answers the health path with 200, and its page says what is missing.
# The health path is an argument of the script ($1), never part of its text.
locals {
  placeholder = var.image == null
  image       = coalesce(var.image, "public.ecr.aws/docker/library/busybox:1.37")
  placeholder_command = ["sh", "-c", join("\n", [
    "set -eu",
    "www=\"$${TMPDIR:-/tmp}/www\"",
    "mkdir -p \"$www\"",
    "printf '%s\\n' '<!doctype html><title>prenv preview</title><p>This preview runs a placeholder: it has no image of its own yet. Build one (build.context in .github/prenv.yml) or pass it to the action (its image input).' >\"$www/index.html\"",
    "case \"$1\" in */) health=\"$1index.html\" ;; *) health=\"$1\" ;; esac",
    "mkdir -p \"$(dirname \"$www$health\")\"",
    "echo ok >\"$www$health\"",
    "exec httpd -f -v -p \"$PORT\" -h \"$www\"",
  ]), "placeholder", var.health_check_path]
}

locals {
  db_environment = local.db == null ? {} : {
    PGHOST       = local.db.host
    PGPORT       = tostring(local.db.port)
    PGDATABASE   = local.db.name
    PGUSER       = local.db.user
    DATABASE_URL = "postgresql://${local.db.user}@${local.db.host}:${local.db.port}/${local.db.name}"
  }

  # Writable scratch space under a read-only root: /tmp for the application, and the three paths the
  # ECS Exec agent writes to (ECS Exec does not otherwise support a read-only root filesystem).
  scratch_volumes = var.read_only_root_filesystem ? {
    tmp              = "/tmp"
    exec-agents      = "/managed-agents"
    exec-ssm-state   = "/var/lib/amazon/ssm"
    exec-ssm-logging = "/var/log/amazon/ssm"
  } : {}

  container = {
    name                   = local.container_name
    image                  = local.image
    command                = local.placeholder ? local.placeholder_command : null
    essential              = true
    user                   = var.container_user
    readonlyRootFilesystem = var.read_only_root_filesystem
    privileged             = false
    portMappings           = [{ containerPort = var.container_port, protocol = "tcp" }]
    linuxParameters        = { initProcessEnabled = true }
    mountPoints            = [for name, path in local.scratch_volumes : { sourceVolume = name, containerPath = path, readOnly = false }]
    # The app contract's database settings (prenv/core/contract.py): libpq's names and DATABASE_URL,
    # which carries no password. The password is only the secret below, so it is in no URL here, in
    # no plan and in no state. database_mode none: no database settings at all.
    environment = [for name, value in merge(var.environment, local.db_environment, {
      PORT           = tostring(var.container_port)
      PRENV_PR       = tostring(var.pr_number)
      PRENV_HEAD_SHA = var.head_sha
    }) : { name = name, value = value }]
    # Only a reference: ECS reads the secret (RDS's, or the PR's on the shared server) when it starts
    # the task.
    secrets = local.db == null ? [] : [
      { name = "PGPASSWORD", valueFrom = "${local.db.secret_arn}:password::" },
    ]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.app.name
        awslogs-region        = local.region
        awslogs-stream-prefix = local.container_name
      }
    }
  }
}

# --- Init steps: prenv's hooks.migrate and hooks.seed ---------------------------------------------
# Each step is a non-essential container of the same task, from the app's image with the app's
# environment, secrets, user, filesystem and logs (stream <prefix>/<step>/<task id>), running its
# command. It must exit 0 before the next step starts, and the app starts only after the last one:
# `dependsOn` with SUCCESS (ECS allows it on non-essential containers only). A step that exits non-zero
# keeps the app from starting, the task stops, and prenv reports `migrate-failed` / `seed-failed`.
# Without steps the task definition is the app container alone, as before.

locals {
  init_steps = [
    for step in [
      { name = "migrate", command = var.migrate_command },
      { name = "seed", command = var.seed_command },
    ] : step if length(step.command) > 0
  ]

  init_containers = [
    for index, step in local.init_steps : merge(
      { for key, value in local.container : key => value if !contains(["name", "essential", "portMappings"], key) },
      {
        name         = step.name
        essential    = false
        command      = step.command
        portMappings = []
      },
      { for key, value in { dependsOn = [for before in slice(local.init_steps, 0, index) : { containerName = before.name, condition = "SUCCESS" }] } : key => value if index > 0 },
    )
  ]

  app_container = merge(
    local.container,
    { for key, value in { dependsOn = [for step in local.init_steps : { containerName = step.name, condition = "SUCCESS" }] } : key => value if length(local.init_steps) > 0 },
  )

  container_definitions = concat(local.init_containers, [local.app_container])
}

resource "aws_ecs_task_definition" "app" {
  family                   = local.names.task_family
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = tostring(var.cpu)
  memory                   = tostring(var.memory)
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn
  container_definitions    = jsonencode(local.container_definitions)

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  dynamic "volume" {
    for_each = local.scratch_volumes
    content {
      name = volume.key
    }
  }
}

resource "aws_ecs_service" "app" {
  name                    = local.names.ecs_service
  cluster                 = data.aws_ecs_cluster.base.arn
  task_definition         = aws_ecs_task_definition.app.arn
  desired_count           = var.desired_count
  platform_version        = "LATEST"
  enable_execute_command  = true
  propagate_tags          = "SERVICE"
  enable_ecs_managed_tags = true
  wait_for_steady_state   = var.wait_for_steady_state

  health_check_grace_period_seconds  = 30
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200

  capacity_provider_strategy {
    capacity_provider = var.capacity_provider
    weight            = 1
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = data.aws_subnets.private.ids
    security_groups  = concat([aws_security_group.service.id], data.aws_security_group.db_clients[*].id)
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.this.arn
    container_name   = local.container_name
    container_port   = var.container_port
  }

  # ECS accepts a target group only once a listener (or rule) forwards to it.
  depends_on = [aws_lb_listener.port, aws_lb_listener_rule.host, aws_iam_role_policy.execution]
}
