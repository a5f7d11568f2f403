variable "environment" {
  description = "Which rendered manifests to apply: dev (namespace swarm-dev, also CI's staging) or prod (swarm-prod)."
  type        = string

  validation {
    condition     = contains(["dev", "prod"], var.environment)
    error_message = "environment must be dev or prod (deploy/k8s/rendered/<environment>.yaml)."
  }
}

variable "image" {
  description = "The hub's image, with its tag or digest, for the three tiers and the migration Job."
  type        = string
  default     = "ghcr.io/swarm-hub/swarm:0.1.0"

  validation {
    condition     = can(regex("^[^\\s]+[:@][^\\s]+$", var.image))
    error_message = "image must name a tag or a digest (ghcr.io/swarm-hub/swarm:TAG)."
  }
}

variable "replicas" {
  description = "Pods per tier, by Deployment name: swarm-config's count, and the autoscalers' floor for swarm-api and swarm-handlers. Unset: the original 3, 2 and 5."
  type        = map(number)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.replicas : contains(["swarm-api", "swarm-config", "swarm-handlers"], k) && v >= 1])
    error_message = "replicas keys are swarm-api, swarm-config and swarm-handlers, each at least 1."
  }
}

variable "max_replicas" {
  description = "The autoscalers' ceilings, by name (swarm-api, swarm-handlers). Unset: the rendered ones (prod 100 and 20, dev 10 and 10)."
  type        = map(number)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.max_replicas : contains(["swarm-api", "swarm-handlers"], k)])
    error_message = "max_replicas keys are swarm-api and swarm-handlers."
  }
}

variable "resources" {
  description = "Requests and limits per tier, by Deployment name. Unset: the original ones (api 250m/256Mi to 500m/512Mi, handlers 500m/512Mi to 1000m/1Gi, config 100m/128Mi to 250m/256Mi)."
  type = map(object({
    requests = object({ cpu = string, memory = string })
    limits   = object({ cpu = string, memory = string })
  }))
  default = {}

  validation {
    condition     = alltrue([for k, v in var.resources : contains(["swarm-api", "swarm-config", "swarm-handlers"], k)])
    error_message = "resources keys are swarm-api, swarm-config and swarm-handlers."
  }
}

variable "database_url" {
  description = "postgres://user:password@host:5432/database the hub uses (SWARM_DATABASE; the Secret's database-url)."
  type        = string
  sensitive   = true

  validation {
    condition     = can(regex("^postgres(ql)?://", var.database_url))
    error_message = "database_url must be a postgres:// URL."
  }
}

variable "encryption_key" {
  description = "Encryption at rest (SWARM_ENCRYPTION_KEY): 32 bytes as base64 (`swarm keys generate`). Empty: messages stored in the clear."
  type        = string
  sensitive   = true
  default     = ""
}

variable "previous_keys" {
  description = "Older encryption keys, comma-separated, during and after a key rotation (SWARM_PREVIOUS_KEYS)."
  type        = string
  sensitive   = true
  default     = ""
}

variable "session_database_url" {
  description = "PostgreSQL itself when database_url points at PgBouncer in transaction mode (SWARM_SESSION_DATABASE). Empty: database_url."
  type        = string
  sensitive   = true
  default     = ""
}

variable "prometheus_operator" {
  description = "Apply the ServiceMonitor and PrometheusRule (their CRDs must be installed: kubernetes_manifest reads them at plan)."
  type        = bool
  default     = true
}

variable "migration_timeout" {
  description = "How long to wait for the migration Job before failing the apply (the Job's own deadline is 10 minutes)."
  type        = string
  default     = "10m"
}
