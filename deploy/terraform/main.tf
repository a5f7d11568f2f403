# The order a rollout needs: the namespace, then the Secret and the ConfigMap, then the migration
# Job (waited for until it completes), then the hub's objects, the Deployments waited for until
# rolled out. Everything comes from the rendered manifests; var.image, var.replicas,
# var.max_replicas and var.resources are merged into the objects they concern.

locals {
  k8s_dir = "${path.module}/../k8s"

  # One object per YAML document of the rendered files (`npm run k8s` writes them).
  hub_objects     = [for doc in split("\n---\n", file("${local.k8s_dir}/rendered/${var.environment}.yaml")) : yamldecode(doc)]
  migrate_objects = [for doc in split("\n---\n", file("${local.k8s_dir}/rendered/${var.environment}-migrate.yaml")) : yamldecode(doc)]
  namespace       = yamldecode(file("${local.k8s_dir}/overlays/${var.environment}/namespace.yaml"))

  monitoring_kinds = ["ServiceMonitor", "PrometheusRule"]

  settings = { for o in local.hub_objects : "${o.kind}/${o.metadata.name}" => o if o.kind == "ConfigMap" }

  # The image and the tier's resources in each container; the config tier's replica count (the
  # autoscaled tiers' Deployments name none: their autoscalers own it).
  deployments = {
    for o in local.hub_objects : "${o.kind}/${o.metadata.name}" => merge(o, {
      spec = merge(o.spec, { for k, v in { replicas = lookup(var.replicas, o.metadata.name, try(o.spec.replicas, 1)) } : k => v if can(o.spec.replicas) }, {
        template = merge(o.spec.template, {
          spec = merge(o.spec.template.spec, {
            containers = [for c in o.spec.template.spec.containers : merge(c, { image = var.image, resources = lookup(var.resources, o.metadata.name, c.resources) })]
          })
        })
      })
    }) if o.kind == "Deployment"
  }

  autoscalers = {
    for o in local.hub_objects : "${o.kind}/${o.metadata.name}" => merge(o, {
      spec = merge(o.spec, {
        minReplicas = lookup(var.replicas, o.metadata.name, o.spec.minReplicas)
        maxReplicas = lookup(var.max_replicas, o.metadata.name, o.spec.maxReplicas)
      })
    }) if o.kind == "HorizontalPodAutoscaler"
  }

  # Services, disruption budgets, network policies, the Ingress and, with the operator, monitoring.
  others = {
    for o in local.hub_objects : "${o.kind}/${o.metadata.name}" => o
    if !contains(["ConfigMap", "Deployment", "HorizontalPodAutoscaler"], o.kind) && (var.prometheus_operator || !contains(local.monitoring_kinds, o.kind))
  }

  job = one([
    for o in local.migrate_objects : merge(o, {
      spec = merge(o.spec, {
        template = merge(o.spec.template, {
          spec = merge(o.spec.template.spec, {
            containers = [for c in o.spec.template.spec.containers : merge(c, { image = var.image })]
          })
        })
      })
    }) if o.kind == "Job"
  ])
}

resource "kubernetes_manifest" "namespace" {
  manifest = local.namespace
}

resource "kubernetes_secret_v1" "swarm" {
  metadata {
    name      = "swarm-secrets"
    namespace = local.namespace.metadata.name
    labels    = { "app.kubernetes.io/part-of" = "swarm", "app.kubernetes.io/component" = "settings" }
  }

  data = {
    "database-url"         = var.database_url
    "encryption-key"       = var.encryption_key
    "previous-keys"        = var.previous_keys
    "session-database-url" = var.session_database_url
  }

  depends_on = [kubernetes_manifest.namespace]
}

resource "kubernetes_manifest" "settings" {
  for_each   = local.settings
  manifest   = each.value
  depends_on = [kubernetes_manifest.namespace]
}

# A Job's pod template cannot be changed: a new image replaces the Job (deleted, then created).
resource "terraform_data" "image" {
  input = var.image
}

resource "kubernetes_manifest" "migrate" {
  manifest = local.job

  wait {
    condition {
      type   = "Complete"
      status = "True"
    }
  }

  timeouts {
    create = var.migration_timeout
    update = var.migration_timeout
  }

  lifecycle {
    replace_triggered_by = [terraform_data.image]
  }

  depends_on = [kubernetes_secret_v1.swarm, kubernetes_manifest.settings]
}

resource "kubernetes_manifest" "deployment" {
  for_each = local.deployments
  manifest = each.value

  wait {
    rollout = true
  }

  depends_on = [kubernetes_manifest.migrate]
}

resource "kubernetes_manifest" "autoscaler" {
  for_each   = local.autoscalers
  manifest   = each.value
  depends_on = [kubernetes_manifest.deployment]
}

resource "kubernetes_manifest" "hub" {
  for_each   = local.others
  manifest   = each.value
  depends_on = [kubernetes_manifest.namespace]
}
