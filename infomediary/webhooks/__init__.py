"""Business events for suppliers: webhook endpoints, a transactional outbox, signed retried deliveries."""
