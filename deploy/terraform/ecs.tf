# ECS on Fargate: one scheduler task (exactly one per state store: it holds a lock) and
# `server_count` REST server tasks, from the same image (deploy/entrypoint.sh's modes).

resource "aws_ecs_cluster" "afluente" {
  name = var.name
  setting {
    name  = "containerInsights"
    value = "enabled"
  }
  tags = local.tags
}

resource "aws_cloudwatch_log_group" "afluente" {
  name              = "/ecs/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.afluente.arn
  tags              = local.tags
}

resource "aws_security_group" "tasks" {
  name        = "${var.name}-tasks"
  description = "afluente scheduler and server tasks"
  vpc_id      = var.vpc_id
  tags        = local.tags
}

resource "aws_vpc_security_group_egress_rule" "tasks_https" {
  security_group_id = aws_security_group.tasks.id
  description       = "HTTPS to S3, ECR, CloudWatch and Secrets Manager endpoints"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_egress_rule" "tasks_postgres" {
  security_group_id            = aws_security_group.tasks.id
  description                  = "PostgreSQL state store"
  referenced_security_group_id = aws_security_group.state.id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}

resource "aws_vpc_security_group_ingress_rule" "server" {
  for_each          = toset(var.server_ingress_cidrs)
  security_group_id = aws_security_group.tasks.id
  description       = "REST server from ${each.value}"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = 8080
  to_port           = 8080
}

locals {
  environment = [
    { name = "AFLUENTE_PROJECT", value = "/project" },
    { name = "AWS_REGION", value = data.aws_region.current.name },
  ]
  # RDS keeps the password as JSON {"username", "password"}: ECS extracts the key
  secrets = [
    { name = "PG_PASSWORD", valueFrom = "${aws_db_instance.state.master_user_secret[0].secret_arn}:password::" },
  ]
  containers = {
    scheduler = { command = ["scheduler"], ports = [] }
    server    = { command = ["server"], ports = [{ containerPort = 8080, protocol = "tcp" }] }
  }
}

resource "aws_ecs_task_definition" "afluente" {
  for_each                 = local.containers
  family                   = "${var.name}-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.task_cpu
  memory                   = var.task_memory
  task_role_arn            = aws_iam_role.task.arn
  execution_role_arn       = aws_iam_role.execution.arn
  container_definitions = jsonencode([{
    name         = each.key
    image        = var.image
    essential    = true
    command      = each.value.command
    portMappings = each.value.ports
    environment  = local.environment
    secrets      = local.secrets
    user         = "10001:10001"
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.afluente.name
        awslogs-region        = data.aws_region.current.name
        awslogs-stream-prefix = each.key
      }
    }
  }])
  tags = local.tags
}

resource "aws_ecs_service" "scheduler" {
  name            = "${var.name}-scheduler"
  cluster         = aws_ecs_cluster.afluente.id
  task_definition = aws_ecs_task_definition.afluente["scheduler"].arn
  launch_type     = "FARGATE"
  desired_count   = 1
  # never two schedulers at once: the old task stops before the new one starts
  deployment_minimum_healthy_percent = 0
  deployment_maximum_percent         = 100
  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }
  tags = local.tags
}

resource "aws_ecs_service" "server" {
  name            = "${var.name}-server"
  cluster         = aws_ecs_cluster.afluente.id
  task_definition = aws_ecs_task_definition.afluente["server"].arn
  launch_type     = "FARGATE"
  desired_count   = var.server_count
  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }
  tags = local.tags
}
