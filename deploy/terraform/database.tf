# The state store: RDS PostgreSQL (runs, events, locks, schedules), encrypted, private,
# its password kept by RDS in Secrets Manager.

resource "aws_db_subnet_group" "state" {
  name       = "${var.name}-state"
  subnet_ids = var.private_subnet_ids
  tags       = local.tags
}

resource "aws_security_group" "state" {
  name        = "${var.name}-state"
  description = "PostgreSQL state store: reachable from the afluente tasks only"
  vpc_id      = var.vpc_id
  tags        = local.tags
}

resource "aws_vpc_security_group_ingress_rule" "state_from_tasks" {
  security_group_id            = aws_security_group.state.id
  description                  = "PostgreSQL from the afluente tasks"
  referenced_security_group_id = aws_security_group.tasks.id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}

resource "aws_db_parameter_group" "state" {
  name   = "${var.name}-state"
  family = "postgres17"
  # only TLS connections (the psycopg driver's default `sslmode=prefer` negotiates it)
  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }
  parameter {
    name  = "log_statement"
    value = "ddl"
  }
  parameter {
    name  = "log_min_duration_statement"
    value = "1000"
  }
  tags = local.tags
}

resource "aws_iam_role" "rds_monitoring" {
  name = "${var.name}-rds-monitoring"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "monitoring.rds.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
  tags = local.tags
}

resource "aws_iam_role_policy_attachment" "rds_monitoring" {
  role       = aws_iam_role.rds_monitoring.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

resource "aws_db_instance" "state" {
  identifier                          = "${var.name}-state"
  engine                              = "postgres"
  engine_version                      = "17"
  instance_class                      = var.db_instance_class
  allocated_storage                   = var.db_allocated_storage
  db_name                             = "afluente"
  username                            = "afluente"
  manage_master_user_password         = true
  master_user_secret_kms_key_id       = aws_kms_key.afluente.arn
  db_subnet_group_name                = aws_db_subnet_group.state.name
  vpc_security_group_ids              = [aws_security_group.state.id]
  parameter_group_name                = aws_db_parameter_group.state.name
  multi_az                            = var.db_multi_az
  publicly_accessible                 = false
  storage_encrypted                   = true
  kms_key_id                          = aws_kms_key.afluente.arn
  iam_database_authentication_enabled = true
  backup_retention_period             = 14
  deletion_protection                 = true
  skip_final_snapshot                 = false
  final_snapshot_identifier           = "${var.name}-state-final"
  copy_tags_to_snapshot               = true
  auto_minor_version_upgrade          = true
  performance_insights_enabled        = true
  performance_insights_kms_key_id     = aws_kms_key.afluente.arn
  monitoring_interval                 = 60
  monitoring_role_arn                 = aws_iam_role.rds_monitoring.arn
  enabled_cloudwatch_logs_exports     = ["postgresql", "upgrade"]
  tags                                = local.tags
}
