output "namespace" {
  description = "The namespace the hub runs in."
  value       = module.swarm.namespace
}

output "database_address" {
  description = "The RDS endpoint the hub's database URL names."
  value       = aws_db_instance.swarm.address
}

output "migration_job" {
  description = "The migration Job of the applied image."
  value       = module.swarm.migration_job
}
