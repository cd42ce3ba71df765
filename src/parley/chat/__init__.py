"""Chats: the conversation loop, results, summaries, sequential and nested chats."""
