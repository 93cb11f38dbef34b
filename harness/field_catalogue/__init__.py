"""The build of the bundled field catalogue (``harness/eql/ecs_fields.json``).

``python -m harness.field_catalogue.build`` reads ECS's and Elastic's integrations'
published field definitions from local checkouts (or git directories at a ref) and
writes the catalogue that :data:`harness.eql.ECS` loads. It never opens the network.
"""
