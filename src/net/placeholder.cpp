// Placeholder so the net library has a source until the server lands; delete then.
