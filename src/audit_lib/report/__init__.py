"""What readers see: notebook views of findings, escaped display helpers, the HTML report."""
