"""The read side: public views (the privacy boundary), reference layers, OGC API, exports."""
