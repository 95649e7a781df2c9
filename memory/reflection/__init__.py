"""Memory the agent writes about itself: playbooks, rules, reflections, critique trees."""
