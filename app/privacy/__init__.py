"""Personal data kept only as long as the operator's retention period allows: erasure of
lapsed members' identities and health facts, keeping the money records under their ids."""
