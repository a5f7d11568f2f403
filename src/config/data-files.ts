// Names of the files the hub keeps in its data directory that other processes read too (the CLI
// finds the admin token there). Here, not in hub/, so that the CLI reads a name without loading
// the hub and its store drivers.
export const ADMIN_TOKEN_FILE = 'admin.token';
