"""What leaves the pipeline: the bulletin's data, desk letters, recipients and their delivery."""
