"""School data: the record contract, the sheet's header contract, the reader and the template."""
