"""What operators and the proxy watch: /healthz (can this node serve?) and /metrics (Prometheus)."""
