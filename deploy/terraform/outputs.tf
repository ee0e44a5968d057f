# Outputs of the afluente AWS module (docs/deployment.md lists each one).

output "warehouse_uri" {
  description = "The `warehouse:` to write in afluente.yml."
  value       = "s3://${aws_s3_bucket.warehouse.bucket}/"
}

output "bucket_arn" {
  description = "ARN of the warehouse bucket."
  value       = aws_s3_bucket.warehouse.arn
}

output "kms_key_arn" {
  description = "ARN of the KMS key encrypting the bucket, the database and the logs."
  value       = aws_kms_key.afluente.arn
}

output "state_url" {
  description = "The `state:` to write in afluente.yml (the password comes from PG_PASSWORD)."
  value       = "postgresql+psycopg://${aws_db_instance.state.username}:$${PG_PASSWORD}@${aws_db_instance.state.address}:${aws_db_instance.state.port}/${aws_db_instance.state.db_name}"
}

output "db_password_secret_arn" {
  description = "ARN of the Secrets Manager secret RDS keeps the state store's password in."
  value       = aws_db_instance.state.master_user_secret[0].secret_arn
}

output "task_role_arn" {
  description = "ARN of the pipeline's IAM role (the tasks' role)."
  value       = aws_iam_role.task.arn
}

output "cluster_name" {
  description = "Name of the ECS cluster."
  value       = aws_ecs_cluster.afluente.name
}

output "scheduler_service_name" {
  description = "Name of the ECS service running the scheduler."
  value       = aws_ecs_service.scheduler.name
}

output "server_service_name" {
  description = "Name of the ECS service running the REST server."
  value       = aws_ecs_service.server.name
}
