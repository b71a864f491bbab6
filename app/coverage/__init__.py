"""Cover: paid periods, their usage counters, their ends, and the views of them."""
