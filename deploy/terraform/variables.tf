# Inputs of the afluente AWS module (docs/deployment.md lists each one).

variable "name" {
  description = "Prefix of every resource's name (letters, digits and hyphens)."
  type        = string
  default     = "afluente"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name))
    error_message = "name: lower-case letters, digits and hyphens, 2 to 31 characters."
  }
}

variable "vpc_id" {
  description = "The VPC the database and the ECS tasks run in."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets (at least two, in different zones) for RDS and the tasks."
  type        = list(string)
}

variable "image" {
  description = "The container image: deploy/Dockerfile's image with the project copied to /project."
  type        = string
}

variable "server_ingress_cidrs" {
  description = "CIDR blocks allowed to reach the REST server's port (a load balancer's subnets)."
  type        = list(string)
  default     = []
}

variable "db_instance_class" {
  description = "RDS instance class of the PostgreSQL state store."
  type        = string
  default     = "db.t4g.small"
}

variable "db_allocated_storage" {
  description = "Storage of the state store, in GiB."
  type        = number
  default     = 20
}

variable "db_multi_az" {
  description = "Whether the state store runs in two availability zones."
  type        = bool
  default     = true
}

variable "server_count" {
  description = "How many REST server tasks run (the scheduler always runs exactly one)."
  type        = number
  default     = 2
}

variable "task_cpu" {
  description = "CPU units of each task (1024 = 1 vCPU)."
  type        = number
  default     = 1024
}

variable "task_memory" {
  description = "Memory of each task, in MiB."
  type        = number
  default     = 4096
}

variable "log_retention_days" {
  description = "How long CloudWatch keeps the tasks' logs, in days."
  type        = number
  default     = 365
}

variable "noncurrent_version_days" {
  description = "Days S3 keeps an overwritten object's old version (Delta's own time travel is separate)."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
