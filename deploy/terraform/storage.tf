# The warehouse: one S3 bucket for the Delta tables, versioned, encrypted with the module's
# KMS key, closed to the public.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  tags = merge({ "app" = "afluente", "module" = var.name }, var.tags)
}

resource "aws_kms_key" "afluente" {
  description         = "${var.name}: the warehouse bucket, the state store and the logs"
  enable_key_rotation = true
  # the account may administer the key; CloudWatch Logs may use it for the tasks' logs
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministers"
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "LogsEncrypt"
        Effect    = "Allow"
        Principal = { Service = "logs.${data.aws_region.current.name}.amazonaws.com" }
        Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
      },
    ]
  })
  tags = local.tags
}

resource "aws_s3_bucket" "warehouse" {
  #checkov:skip=CKV_AWS_144:cross-region replication is a disaster-recovery choice left to the operator (docs/deployment.md)
  #checkov:skip=CKV_AWS_18:access logging needs a second bucket the operator's account usually already has; CloudTrail data events cover it
  #checkov:skip=CKV2_AWS_62:nothing consumes bucket events; afluente's scheduler polls the Delta log
  bucket_prefix = "${var.name}-warehouse-"
  tags          = local.tags
}

resource "aws_s3_bucket_versioning" "warehouse" {
  bucket = aws_s3_bucket.warehouse.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "warehouse" {
  bucket = aws_s3_bucket.warehouse.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.afluente.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "warehouse" {
  bucket                  = aws_s3_bucket.warehouse.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_lifecycle_configuration" "warehouse" {
  bucket = aws_s3_bucket.warehouse.id
  rule {
    id     = "old-versions-and-uploads"
    status = "Enabled"
    filter {}
    # a vacuumed Delta file stays as a noncurrent S3 version this long, then goes
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}
