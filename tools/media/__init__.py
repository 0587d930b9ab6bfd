"""Media basics that need no other family: probing files and listing the film library."""
