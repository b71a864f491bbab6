"""Premium collection: payment orders and the payment gateway's signed notifications."""
