# Least privilege: the pipeline's role (the tasks' role) may list the warehouse bucket and
# read, write and delete its objects (Delta writes, compaction, vacuum), use the KMS key for
# them, and nothing else. The execution role only pulls the image, writes the logs and reads
# the database password secret.

data "aws_iam_policy_document" "assume_ecs_tasks" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "task" {
  name               = "${var.name}-pipeline"
  assume_role_policy = data.aws_iam_policy_document.assume_ecs_tasks.json
  tags               = local.tags
}

data "aws_iam_policy_document" "pipeline" {
  statement {
    sid       = "ListWarehouse"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [aws_s3_bucket.warehouse.arn]
  }
  statement {
    sid       = "ReadWriteTables"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${aws_s3_bucket.warehouse.arn}/*"]
  }
  statement {
    sid       = "UseTheKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.afluente.arn]
  }
}

resource "aws_iam_role_policy" "pipeline" {
  name   = "${var.name}-warehouse"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.pipeline.json
}

resource "aws_iam_role" "execution" {
  name               = "${var.name}-execution"
  assume_role_policy = data.aws_iam_policy_document.assume_ecs_tasks.json
  tags               = local.tags
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

data "aws_iam_policy_document" "execution_secret" {
  statement {
    sid       = "ReadDatabasePassword"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_db_instance.state.master_user_secret[0].secret_arn]
  }
  statement {
    sid       = "DecryptDatabasePassword"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.afluente.arn]
  }
}

resource "aws_iam_role_policy" "execution_secret" {
  name   = "${var.name}-db-secret"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution_secret.json
}
