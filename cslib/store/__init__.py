"""Storage: the database file, the app store, the data contract, the importer and the build pipeline."""
