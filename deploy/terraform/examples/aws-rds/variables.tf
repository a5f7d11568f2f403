variable "region" {
  description = "AWS region of the cluster and the database."
  type        = string
  default     = "eu-west-1"
}

variable "cluster_name" {
  description = "Name of the EKS cluster the hub runs in."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the cluster; the database goes in it."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets (two zones or more) for the database."
  type        = list(string)
}

variable "environment" {
  description = "dev or prod: which rendered manifests the module applies; prod also makes the database Multi-AZ and protected from deletion."
  type        = string
  default     = "prod"
}

variable "image" {
  description = "The hub's image and tag."
  type        = string
  default     = "ghcr.io/swarm-hub/swarm:0.1.0"
}

variable "replicas" {
  description = "Pods per tier, by Deployment name (see the module's variable)."
  type        = map(number)
  default     = {}
}

variable "db_instance_class" {
  description = "RDS instance class: the primary is the hub's ceiling (docs/deployment.md, capacity model)."
  type        = string
  default     = "db.m6g.large"
}
