"""Everyday engagement: welcome, check-in, points and the rest of the community robot."""
