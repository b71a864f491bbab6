"""Money out: what approved claims owe, to which account, its approval, the transfers the
payment gateway is instructed to make, and what the gateway says happened to them."""
