output "namespace" {
  description = "The namespace the hub runs in."
  value       = kubernetes_manifest.namespace.manifest.metadata.name
}

output "deployments" {
  description = "The hub's Deployments (swarm-api, swarm-config, swarm-handlers)."
  value       = sort([for d in kubernetes_manifest.deployment : d.manifest.metadata.name])
}

output "migration_job" {
  description = "The Job that applied the migrations of this image (`kubectl logs job/NAME` prints the schema version)."
  value       = kubernetes_manifest.migrate.manifest.metadata.name
}

output "image" {
  description = "The image every tier and the migration run."
  value       = terraform_data.image.output
}
