"""Running prenv against an embedded AWS emulator: moto in this process, the fixes for its quirks, a
Terraform CLI configuration for offline provider mirrors, and the small example root."""
