"""Operations: backup and restore, retention and keep marks, go-live checks, systemd notification."""
