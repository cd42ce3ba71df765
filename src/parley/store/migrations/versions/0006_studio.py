"""parley Studio: accounts, login sessions, saved teams, the runs it started

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('parley_studio_users',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('parley_studio_sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('expires_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['user'], ['parley_studio_users.name'], ),
    sa.PrimaryKeyConstraint('token_hash')
    )
    op.create_table('parley_studio_teams',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('owner', sa.String(length=64), nullable=True),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('document', sa.Text(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_parley_studio_teams_owner', 'parley_studio_teams', ['owner'], unique=False)
    op.create_table('parley_studio_runs',
    sa.Column('run_id', sa.String(length=36), nullable=False),
    sa.Column('owner', sa.String(length=64), nullable=True),
    sa.Column('team_id', sa.String(length=32), nullable=True),
    sa.Column('team_name', sa.Text(), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answer_for', sa.Float(), nullable=True),
    sa.Column('holder', sa.String(length=120), nullable=True),
    sa.Column('held_until', sa.Float(), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('run_id')
    )
    op.create_index('ix_parley_studio_runs_owner', 'parley_studio_runs', ['owner'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_parley_studio_runs_owner', table_name='parley_studio_runs')
    op.drop_table('parley_studio_runs')
    op.drop_index('ix_parley_studio_teams_owner', table_name='parley_studio_teams')
    op.drop_table('parley_studio_teams')
    op.drop_table('parley_studio_sessions')
    op.drop_table('parley_studio_users')
