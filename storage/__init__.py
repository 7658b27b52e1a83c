"""The only place with SQL: engine, typed models, migrations runner, repositories."""
