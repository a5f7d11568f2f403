# Swarm on Kubernetes, applied by Terraform from the manifests `npm run k8s` renders
# (deploy/k8s/rendered/): the module adds no object of its own besides the Secret, and changes
# only the image, replicas and resources of what it reads. Validated offline (parsed by
# test/ship/terraform.test.ts); never applied from this repository (docs/deployment.md, Terraform).
terraform {
  # terraform_data (replace_triggered_by the image) needs 1.4; kubernetes_manifest's wait blocks
  # need provider 2.x.
  required_version = ">= 1.5.0"

  required_providers {
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "~> 2.31"
    }
  }
}
