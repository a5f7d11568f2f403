# Example: Swarm on an EKS cluster with its database on Amazon RDS for PostgreSQL. The database's
# address and a generated password make the database URL the module stores in the Secret
# swarm-secrets; the encryption key is generated too. Both end up in the Terraform state: keep the
# state encrypted and access to it as narrow as to the database.

resource "random_password" "db" {
  length  = 40
  special = false
}

# Encryption at rest: 32 random bytes, base64, the form `swarm keys generate` prints.
resource "random_bytes" "encryption_key" {
  length = 32
}

resource "aws_db_subnet_group" "swarm" {
  name       = "swarm-${var.environment}"
  subnet_ids = var.private_subnet_ids
}

# Only the cluster's nodes reach the database (the module's NetworkPolicy then lets only hub pods out to 5432).
resource "aws_security_group" "db" {
  name   = "swarm-${var.environment}-db"
  vpc_id = var.vpc_id

  ingress {
    description     = "PostgreSQL from the cluster's nodes"
    from_port       = 5432
    to_port         = 5432
    protocol        = "tcp"
    security_groups = [data.aws_eks_cluster.this.vpc_config[0].cluster_security_group_id]
  }
}

resource "aws_db_instance" "swarm" {
  identifier     = "swarm-${var.environment}"
  engine         = "postgres"
  engine_version = "16"
  instance_class = var.db_instance_class

  allocated_storage     = 50
  max_allocated_storage = 500
  storage_type          = "gp3"
  storage_encrypted     = true

  db_name  = "swarm"
  username = "swarm"
  password = random_password.db.result

  db_subnet_group_name   = aws_db_subnet_group.swarm.name
  vpc_security_group_ids = [aws_security_group.db.id]
  multi_az               = var.environment == "prod"

  # Point-in-time recovery within the retention (docs/deployment.md, disaster recovery).
  backup_retention_period   = 14
  deletion_protection       = var.environment == "prod"
  skip_final_snapshot       = var.environment != "prod"
  final_snapshot_identifier = "swarm-${var.environment}-final"
}

module "swarm" {
  source = "../.."

  environment = var.environment
  image       = var.image
  replicas    = var.replicas

  # TLS without verifying the certificate: RDS's CA is not in Node's store. To verify, put the RDS
  # CA bundle in the image or a volume and use sslmode=verify-full&sslrootcert=PATH instead.
  database_url   = "postgres://swarm:${urlencode(random_password.db.result)}@${aws_db_instance.swarm.address}:${aws_db_instance.swarm.port}/swarm?sslmode=no-verify"
  encryption_key = random_bytes.encryption_key.base64
}
